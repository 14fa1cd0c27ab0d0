"""Assembling the Scenario from validated input tables, one table family per module.

:func:`model.assemble.core.assemble` checks the horizon, the entity tables, offers, scalars, generations
and regions, and calls the families: :mod:`~model.assemble.supply` (vendor supply, regional firm
power), :mod:`~model.assemble.energy` (power sources, prices, emissions), :mod:`~model.assemble.money`
(funding) and :mod:`~model.assemble.commitments` (history and scheduled deliveries).
:mod:`~model.assemble.series` holds their shared helpers.
"""
