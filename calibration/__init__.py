"""Calibration of latency predictors against real boards: measurements in, corrected predictor and an honest
held-out accuracy report out.

* :mod:`calibration.measurements` -- the measurement file schema (CSV/JSON), loaders, one-line validation errors;
* :mod:`calibration.datasets` -- loaders of the shared real-board data (HELP, nn-Meter, HW-NAS-Bench, Vitis AI,
  DPU profiles, the BBSSP authors' ZCU102 LUT);
* :mod:`calibration.workloads` -- measurement -> workload (spaces by name, ``nb201-unpruned``,
  ``nb201-zero-folded``), cached;
* :mod:`calibration.lut` -- per-layer-configuration latency tables, vectorised prediction, on-disk cache;
* :mod:`calibration.correctors` -- global affine, per-kernel-type NNLS, learned residual (one interface);
* :mod:`calibration.bbssp` -- the BBSSP layer-adaptive (policy-aware) LUT;
* :mod:`calibration.batch` -- vectorised prediction of many archs of an additive space (no workload per arch);
* :mod:`calibration.execution` -- the NB201 execution variant of a board from its training measurements
  (``calibrate fit --space nb201-auto``);
* :mod:`calibration.metrics` -- MAPE, RMSE, +-5/10%, Spearman/Kendall, scatter PNG;
* :mod:`calibration.boards.torch_local` -- this machine's CPU/CUDA as a real board;
* :mod:`calibration.cli` -- ``hwnas measure`` and ``hwnas calibrate fit``.
"""
