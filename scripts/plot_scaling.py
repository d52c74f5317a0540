"""Adds parallel efficiency to scripts/scaling.sh's JSON records and plots rate and
efficiency against rank count for the strong and weak series (PNG)."""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

path, png = sys.argv[1], sys.argv[2]
records = [json.loads(line) for line in open(path) if line.strip()]
for series in ("strong", "weak"):
    rows = sorted((r for r in records if r["series"] == series), key=lambda r: r["ranks"])
    if not rows:
        continue
    base = rows[0]["atom_steps_per_s"] / rows[0]["ranks"]
    for r in rows:
        r["efficiency"] = r["atom_steps_per_s"] / (r["ranks"] * base)
        flags = [f for f in ("busy", "oversubscribed") if r.get(f)]
        print(f"{series:6s} ranks {r['ranks']:<3d} efficiency {r['efficiency']:.3f}"
              f"{'  (' + ', '.join(flags) + ': not to be quoted)' if flags else ''}")
with open(path, "w") as f:
    for r in records:
        f.write(json.dumps(r) + "\n")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
for series, marker in (("strong", "o"), ("weak", "s")):
    rows = sorted((r for r in records if r["series"] == series), key=lambda r: r["ranks"])
    if not rows:
        continue
    p = [r["ranks"] for r in rows]
    ax1.plot(p, [r["atom_steps_per_s"] / 1e6 for r in rows], marker=marker, label=f"{series} ({rows[0]['atoms']:,} atoms at {p[0]} rank)")
    ax2.plot(p, [100 * r["efficiency"] for r in rows], marker=marker, label=series)
    over = [r for r in rows if r.get("oversubscribed")]
    if over:
        ax2.plot([r["ranks"] for r in over], [100 * r["efficiency"] for r in over], "rx", ms=10,
                 label=f"{series}: more ranks than cores (not scaling)")
p_all = sorted({r["ranks"] for r in records})
rows = sorted((r for r in records if r["series"] == "strong"), key=lambda r: r["ranks"])
if rows:
    ax1.plot(p_all, [rows[0]["atom_steps_per_s"] / 1e6 * x / rows[0]["ranks"] for x in p_all], "k:", label="ideal")
ax1.set_xlabel("MPI ranks")
ax1.set_ylabel("million atom-steps / s")
fig.suptitle(f"calcine {records[0].get('system', 'eam')}, {records[0]['threads']} thread(s)/rank, "
             f"commit {records[0]['commit'][:12]}, {records[0].get('cpu_model', '')}", fontsize=10)
ax1.legend(fontsize=8)
ax2.axhline(100, color="k", ls=":")
ax2.set_xlabel("MPI ranks")
ax2.set_ylabel("parallel efficiency (%)")
ax2.set_ylim(0, 110)
ax2.legend(fontsize=8)
for ax in (ax1, ax2):
    ax.set_xticks(p_all)
fig.tight_layout()
fig.savefig(png, dpi=120)
print(f"wrote {png}")
