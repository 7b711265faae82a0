"""Fine-tuning the plate detector on Indonesian plates (issue 14): `python -m training.detector`.

The machine's cores are shared: with OpenMP's default busy-waiting, two torch threads that lose
their core to another process spin instead of yielding, and a training step was measured 5 to
10 times slower. Passive waiting must be chosen before torch is first imported.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
