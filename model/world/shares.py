"""The pro-rata rule's fixed shares: each buyer's part of a shared cap in proportion to its contracted GW.

contracted[b, v] = sum over b's contracted volumes c (deal minimums in GW of deals whose minimum is
enforced: signed, active, announced; dated commitments in GW, history and scheduled; opening stock)
of GW[c] / |vendors of c's offers|, for each vendor v of c's offers (a volume spanning several vendors
is split equally among them); likewise contracted[b, r] by the regions of the deal's offers,
and contracted[b] = sum_v contracted[b, v] for the kind-wide power caps. Then

    share[v, b] = contracted[b, v] / sum_b' contracted[b', v]          (dimensionless)

and where no buyer has contracted any GW of v (or in r), the buyers that can take v (hold an offer
of v, in r, or a power source of the kind) share it equally. Deal minimums in USD are not counted.
"""
from __future__ import annotations

from collections import defaultdict

from model.records import MINIMUM_ENFORCED
from model.world.data import WorldInputs


def contracted_gw(w: WorldInputs) -> dict[tuple[str, str, str], float]:
    """``{(kind, name, buyer): GW}`` contracted, kind ``vendor``, ``region`` or ``power_kind``.

    Contracted GW are a buyer's deal minimums in GW (deals whose minimum is enforced), its dated
    commitments in GW (``history`` and ``scheduled``, at least or exactly) and its opening stock: what
    it has bought or must take. Each is split equally among the vendors (regions) of its offers.
    """
    out: dict[tuple[str, str, str], float] = defaultdict(float)
    for b, s in w.scenarios.items():
        volumes = [(d.offers, d.min_gw) for d in s.deals if d.status in MINIMUM_ENFORCED and d.min_gw and d.offers]
        volumes += [(c.offers, c.value) for c in s.commitments if c.unit == "GW" and c.offers
                    and c.kind in ("history", "scheduled") and c.bound in ("at_least", "exactly")]
        volumes += [((o,), gw) for (o, _), gw in s.opening_gw.items() if gw > 0]
        for offers, gw in volumes:
            for attr in ("vendor", "region"):
                names = sorted({getattr(s.offers[o], attr) for o in offers})
                for n in names:
                    out[attr, n, b] += gw / len(names)
            for kind in {src.kind for src in s.power_sources.values()}:
                out["power_kind", kind, b] += gw
    return dict(out)


def pro_rata_shares(w: WorldInputs) -> dict[tuple[str, str, str], float]:
    """``{(kind, name, buyer): share}`` of every shared cap under the pro-rata rule (shares of a cap sum to 1)."""
    contracted = contracted_gw(w)
    able: dict[tuple[str, str], list[str]] = defaultdict(list)
    for b, s in w.scenarios.items():
        for v in sorted({o.vendor for o in s.offers.values()}):
            able["vendor", v].append(b)
        for r in sorted({o.region for o in s.offers.values()}):
            able["region", r].append(b)
        for k in sorted({src.kind for src in s.power_sources.values()}):
            able["power_kind", k].append(b)
    names = ({("vendor", v) for v, _ in w.world_output_gw} | {("region", r) for r, _ in w.regional_firm_gw}
             | {("power_kind", k) for k, _ in w.kind_cap_gw})
    shares: dict[tuple[str, str, str], float] = {}
    for kind, name in sorted(names):
        total = sum(contracted.get((kind, name, b), 0.0) for b in w.buyers)
        takers = able.get((kind, name), [])
        for b in w.buyers:
            if total > 0:
                shares[kind, name, b] = contracted.get((kind, name, b), 0.0) / total
            else:
                shares[kind, name, b] = 1.0 / len(takers) if b in takers else 0.0
    return shares
