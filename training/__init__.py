"""Training code for the plate models: never part of the service's packages or its wheel.

`training.synth` renders synthetic Indonesian plates (shared by the reader and the detector
trainers); `training.reader` fine-tunes the plate reader. Both need the `[train]` extra
(`pip install -e ".[train]"`) and the fonts named in `training/synth/fonts.py`.
"""
