"""The map: household, grid and report payloads, legends, and the Leaflet page built from them."""
