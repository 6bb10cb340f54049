# The diagram as a figure: numbered, captioned, described (tests/test_sphinx_figures.py).
extensions = ["sphinx_cnncount"]
project = "figures"
numfig = True
exclude_patterns = ["_build"]
