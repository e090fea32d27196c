"""nas package of hwnas: BBSSP search-space profiling (:mod:`nas.profiling`, :mod:`nas.cost`), accuracy evaluators
(:mod:`nas.evaluators`), executors (:mod:`nas.executors`), latency-aware search (:mod:`nas.search`) and the
``profile-space`` / ``search`` commands (:mod:`nas.cli`)."""
