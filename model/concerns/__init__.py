"""One module per concern. Each exposes:

- ``add_components(m, s)``: its Params, Vars and constraint families on the model;
- ``LIMITS``: constraint name -> function (Scenario, index) -> :class:`model.concerns.common.Limit`,
  so a binding constraint's dual can be said in the user's words;
- ``report(m, s)`` (where it has results of its own): an ``xarray.Dataset`` with units.

``model/build.py`` calls them in one visible order.
"""
