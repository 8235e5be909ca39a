"""Electronic and handwritten signatures of the stage-5 documents: what was really signed, by whom.

Pure parts (no Prefect): :mod:`.authority` (the demonstration authority), :mod:`.trust` (the anchors in
``config/autorites``), :mod:`.pdf` (PAdES signing and verification with pyHanko), :mod:`.scan` (a
handwritten signature's scan); :mod:`.register` records them in the application database.
"""
