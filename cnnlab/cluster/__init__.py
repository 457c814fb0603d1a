"""Beyond one process: many runs on Dask, one model's training on MPI.

* ``cnnlab.cluster.dask_runs``: every run of ``cnnlab reproduce`` or ``cnnlab sweep`` as a
  Dask task (``--cluster local:2`` or ``--cluster tcp://HOST:PORT``); results and run files
  come back to the client.
* ``cnnlab.cluster.sweep``: a grid of training settings × seeds over one recipe, and its table.
* ``cnnlab.cluster.mpi``: data-parallel training of one model (``mpirun -n N cnnlab train ...
  --distributed``), one ``Allreduce`` of the flat gradient per step.

Dask and mpi4py are the ``cluster`` extra (``pip install 'cnnlab[cluster]'``); nothing here
imports them until a command asks for them. docs/design/scaling.md has the numbers.
"""
