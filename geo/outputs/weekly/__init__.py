"""The weekly pack for the review meeting: its figures, charts, PDF and XLSX."""
