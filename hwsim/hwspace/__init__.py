"""Hardware design spaces as data (:mod:`hwsim.hwspace.space`) and the ``hwnas hw-space`` command."""

from hwsim.hwspace.space import BUILTIN, HwSpace, HwSpaceError, builtin_spaces, get_space, load_space_file, space_from_tables

__all__ = ["BUILTIN", "HwSpace", "HwSpaceError", "builtin_spaces", "get_space", "load_space_file", "space_from_tables"]
