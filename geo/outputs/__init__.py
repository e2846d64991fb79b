"""What gridmap hands out: the map, the weekly pack, XLSX files, and one name and rounding per figure."""
