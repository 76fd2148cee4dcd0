#!/usr/bin/env bash
# `make run`: the main job on the embedded defaults with the shipped example, printing
# what it did. Usage: scripts/run-example.sh path/to/csvpipe
set -euo pipefail
bin=$1
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
example=examples/vendas.csv

echo "== csvpipe run $example   (outputs in ./csvpipe-out)"
"$bin" run "$example"
echo
echo "== the loaded table (sqlite:./csvpipe-out/warehouse.db, table \"vendas\")"
sqlite3 -header -column csvpipe-out/warehouse.db \
    'SELECT categoria, count(*) AS vendas, sum(quantidade) AS itens,
            printf("%.2f", sum(CAST(preco_unitario AS REAL) * quantidade)) AS total
       FROM vendas GROUP BY categoria ORDER BY categoria;'
echo
sqlite3 -header -column csvpipe-out/warehouse.db \
    'SELECT _row, id, data, cliente, preco_unitario, pago FROM vendas ORDER BY _row LIMIT 5;'
echo
echo "== the ledger (csvpipe_loads)"
sqlite3 -header -column csvpipe-out/warehouse.db \
    'SELECT id, dataset, status, rows_loaded, rows_rejected, duration_ms FROM csvpipe_loads ORDER BY id DESC LIMIT 5;'
echo
echo "Run it again: the same file is skipped (exactly-once). Try: build/csvpipe inspect $example"
