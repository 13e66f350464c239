"""Documents of a case as PDF/A: rendered from ``templates/documents/`` with a bundled CJK font."""
