"""Sphinx configuration for tripleo-docker-hook."""

project = 'tripleo-docker-hook'
copyright = '2026, tripleo-docker-hook developers'
# Option reference generated from the code (oslo.config's directive).
# CLI reference generated from the cliff commands (cliff.sphinxext).
extensions = ['oslo_config.sphinxext', 'cliff.sphinxext']
master_doc = 'index'
exclude_patterns = ['_build']
html_theme = 'alabaster'
pygments_style = 'sphinx'
