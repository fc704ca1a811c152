"""Where articles come from (and, later, go back to). One module per kind of source."""
