"""Reading files, checking rows and placing points (data contract §2 and §4): readers, importers, coordinates, point-in-grid."""
