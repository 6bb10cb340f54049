# The theme matrix's project: html_theme is given on each build (confoverrides).
extensions = ["sphinx_cnncount"]
numfig = True
exclude_patterns = ["_build"]
html_theme = "alabaster"
project = "cnncount"  # a short title: the themes' own headers fit a phone
