"""Accuracy evaluators behind one interface (:mod:`nas.evaluators.base`): ``train`` (SSBN_0 trained, the others
fine-tuned from it), ``zero-cost`` (synflow, grad-norm, NASWOT) and ``table`` (a user CSV)."""
