extensions = ["sphinx_cnncount"]
exclude_patterns = ["_build"]
