"""Cases: one violation by one vehicle, from the first frame to closing."""
