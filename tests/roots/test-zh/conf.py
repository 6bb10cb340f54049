# A project in Simplified Chinese: the extension's own words come from its catalog
# (tests/test_sphinx_i18n.py).
extensions = ["sphinx_cnncount"]
project = "zh"
language = "zh_CN"
numfig = True
exclude_patterns = ["_build"]
