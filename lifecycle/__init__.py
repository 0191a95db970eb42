"""The case model, its states and transitions (the ``transitions`` library), and its versions."""
