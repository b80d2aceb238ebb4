"""The design-space search of ``hwcae explore``: the space (:mod:`.space`), one trial's flow
(:mod:`.trial`), the resumable Optuna study run locally or on Dask (:mod:`.study`), the Pareto front
and its outputs (:mod:`.front`) and the export of a front point as a design (:mod:`.export`)."""
