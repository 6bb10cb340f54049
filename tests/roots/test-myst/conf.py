extensions = ["myst_parser", "sphinx_cnncount"]
myst_enable_extensions = ["colon_fence"]
exclude_patterns = ["_build"]
