"""SURREAL's experiments: stacked hourglass (``hourglass``), targets (``targets``), crop and augmentation
(``augment``), set-level metrics (``metrics``) and the training core (``loop``)."""
