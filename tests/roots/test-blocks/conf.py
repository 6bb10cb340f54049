extensions = ["sphinx_cnncount"]
numfig = True
exclude_patterns = ["_build"]
