"""One import: ``core.import_file`` reads a file of one kind, checks every row and writes it whole or not at all."""
