"""What ``tapegrad.compile`` is made of: a function's first call with a new signature is
traced (``trace``: run eagerly, its tape captured as a program), later calls whose signature
matches (``guards``) replay that program (``replay``: numpy for boundaries, fused Numba
kernels for runs of elementwise ops) and carry one ``CompiledFunctionBackward`` record
(``function``). Anything the trace cannot account for is a graph break: that signature runs
eagerly, so a compiled function always computes what its eager self computes."""
