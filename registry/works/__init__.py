"""Works: registered works, their documents, fingerprinting and the author pages."""
