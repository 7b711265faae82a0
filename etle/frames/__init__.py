"""Frames (evidence images as received) and the plate reads made from them."""
