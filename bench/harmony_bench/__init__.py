"""Harmony benchmark: accuracy and speed of Harmony and its peers on the same files."""
