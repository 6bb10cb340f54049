# Every builder, every Sphinx version pyproject.toml allows: tests/test_builders.py.
extensions = ["sphinx_cnncount"]
project = "builders"
version = release = "1.0"
copyright = "2025, the sphinx-cnncount authors"  # EPUB3 wants both
numfig = True
exclude_patterns = ["_build"]
