"""``selfmocap bench``: the paper's Tables 1 and 2 and Figures 3 and 4, regenerated from scratch."""
