"""hwnas search spaces: labelled choices, architectures, and their torch / workload materialisations.

Main entry points: :func:`spaces.registry.get_space` (built-in names and ``.toml`` user spaces),
:class:`spaces.core.SearchSpace` (``sample``, ``contains``, ``size``, ``enumerate``, ``restrict``, ``format`` /
``parse``, ``to_workload``, ``to_torch``, JSON) and :func:`spaces.ssbn.ssbns` (BBSSP base networks).
"""
