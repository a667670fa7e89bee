"""The staff API under /api/v1/staff/ (``urls``), its views thin over the consensus services
(``views``)."""
