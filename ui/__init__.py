"""Streamlit glue shared by the pages: session settings, sidebar, cached loaders, map view."""
