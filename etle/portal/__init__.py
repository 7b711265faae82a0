"""The public portal's rules: who may see a notice, what they see, and how they answer it.

lookup.py      notice number + plate, or plate + last 5 of the VIN: a grant, or one same
               "not found" for every miss; rate-limited per client and per plate
grants.py      the signed, short-lived grant a successful lookup gives (cookie or bearer)
view.py        what a notice page shows: public-safe fields, masked names, the timeline
photo.py       the evidence photo with every other vehicle's plate blurred
responses.py   driver named (self or another), vehicle sold, not my vehicle: audited,
               through the lifecycle
statistics.py  transparency figures without personal data
scams.py       reports of fake ETLE messages
"""
