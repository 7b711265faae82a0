"""Fine-tuning the plate reader on Indonesian plates (issue 15): `python -m training.reader`.

The machine's cores are shared: with OpenMP's default busy-waiting, torch threads that lose
their core to another process spin instead of yielding (training/detector measured steps 5 to
10 times slower). Passive waiting must be chosen before torch is first imported.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
