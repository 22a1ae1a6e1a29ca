"""Bike ride files (OpenBikeSensor CSV, GPX) read into plain data, and what is done with them."""
