"""Latency-aware search with a layer-adaptive LUT: FBNet-style differentiable (:mod:`.differentiable`),
regularised evolution under a latency limit (:mod:`.evolution`), Pareto fronts (:mod:`.pareto`), and the driver
that re-simulates found archs end to end on the device (:mod:`.run`)."""
