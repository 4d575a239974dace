"""Loudou's date formats per language (settings.FORMAT_MODULE_PATH): one way to write a
date and one to write a date with its time, used alike on every page that shows them."""
