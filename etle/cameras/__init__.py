"""Cameras: the devices that push frames, where they stand and what they may report."""
