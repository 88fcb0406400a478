"""The main job: a purchase-to-delivery story on an embedded SQLite file.

Two items (one bought in boxes of 12), two warehouses, receipts at different costs, a sales
reservation then its delivery, a reservation refused with every short line listed, a transfer,
a low-stock alert through the notifier, and the store closed and reopened to show that nothing
was lost. Printed as tables. The file ``jxc-demo.db`` is made anew on every run.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from typing import TextIO

from jxc_core.accounting import Formatter, Voucher
from jxc_core.adapters import SqliteStorage
from jxc_core.cli.table import render_table
from jxc_core.costing import FifoValuation, MovingAverageValuation
from jxc_core.documents import Line, User, Workflow
from jxc_core.errors import JxcError
from jxc_core.ports import Event
from jxc_core.services import Accounting, Documents, Jxc, ReserveLine, StockBalance
from jxc_core.stock import Item, Party, Warehouse

__all__ = ["run_demo"]

D = Decimal

#: the approval workflow of purchase orders, as a low-code platform would store it
PURCHASE_WORKFLOW = {
    "name": "purchase_order",
    "doc_types": ["purchase_order"],
    "actions": {"submit": ["buyer"], "post": ["buyer"], "cancel": ["buyer", "manager"]},
    "steps": [
        {"name": "manager", "role": "manager"},
        {"name": "finance", "role": "cfo", "min_amount": "5000"},
    ],
}


class _Clock:
    """A story clock that moves forward by one hour at each reading."""

    def __init__(self) -> None:
        self.t = dt.datetime(2026, 11, 2, 9, 0)

    def now(self) -> dt.datetime:
        self.t += dt.timedelta(hours=1)
        return self.t


class _PrintingNotifier:
    def __init__(self, out: TextIO, zh: bool) -> None:
        self.out = out
        self.zh = zh
        self.seen: list[Event] = []

    def notify(self, event: Event) -> None:
        self.seen.append(event)
        if event.type in ("below_safety_stock", "below_reorder_point", "reservation_short"):
            p = event.payload
            if event.type == "reservation_short":
                text = f"{len(p['lines'])} line(s) short"
            else:
                label = "低于安全库存" if event.type == "below_safety_stock" else "低于再订货点"
                text = (f"{p['item']} @ {p['warehouse']}: on hand {p['on_hand']} < {p['level']}"
                        + (f" ({label})" if self.zh else ""))
            print(f"  >> notifier: {event.type}: {text}  [event {event.event_id[:8]}]",
                  file=self.out)


def _say(out: TextIO, zh: bool, en: str, cn: str) -> None:
    print(f"\n== {cn if zh else en}", file=out)


def _balances_table(jxc: Jxc, zh: bool, title: str) -> str:
    rows: list[list[object]] = []
    for item in ("TEA-01", "CUP-02"):
        for wh in ("SH", "BJ"):
            b = jxc.balance(item, wh)
            rows.append([item, wh, b.on_hand, b.reserved, b.held, b.available, b.value])
    headers = (["存货", "仓库", "现存", "锁库", "冻结", "可用", "金额"] if zh else
               ["item", "warehouse", "on hand", "reserved", "held", "available", "value"])
    return render_table(title, headers, rows)


def _print_books(books: Accounting, vouchers: list[Voucher], balances: list[StockBalance],
                 locale: str, out: TextIO) -> bool:
    """The vouchers of the story, the trial balance and the 进销存汇总表, in ``locale``."""
    f = Formatter(locale)
    _say(out, f.chinese, "Vouchers generated from the postings", "由业务自动生成的记账凭证")
    for v in vouchers:
        rows = [[x.account, x.account_name, f.money(x.debit) if x.debit else "",
                 f.money(x.credit) if x.credit else "", f"{x.doc_id}/{x.line_no}"]
                for x in v.lines]
        title = f"{v.number}  {f.date(v.date)}  {v.doc_type}{'  (红字 red)' if v.red else ''}"
        print(render_table(title, [f.label("account", "科目"), f.label("name", "科目名称"),
                                   f.label("debit", "借方"), f.label("credit", "贷方"),
                                   f.label("source", "来源单据/行")], rows,
                           [False, False, True, True, False]), file=out)
    trial = books.trial_balance()
    print(render_table(f.label("Trial balance", "科目余额表"),
                       [f.label("account", "科目"), f.label("name", "科目名称"),
                        f.label("debit", "借方"), f.label("credit", "贷方")],
                       [[r.account, r.name, f.money(r.debit), f.money(r.credit)]
                        for r in trial], [False, False, True, True]), file=out)
    debit = sum((r.debit for r in trial), D(0))
    credit = sum((r.credit for r in trial), D(0))
    summary = books.inventory_summary(2026, 11)
    headers = [f.label(e, c) for e, c in (("item", "存货"), ("warehouse", "仓库"),
                                         ("opening qty", "期初数量"), ("opening", "期初金额"),
                                         ("in qty", "入库数量"), ("in", "入库金额"),
                                         ("out qty", "出库数量"), ("out", "出库金额"),
                                         ("cost adj.", "成本调整"),
                                         ("closing qty", "结存数量"), ("closing", "结存金额"))]
    print(render_table(f.label("Stock summary 2026-11", "进销存汇总表 2026年11月"), headers, [
        [r.item, r.warehouse, f.number(r.opening_qty), f.money(r.opening_value),
         f.number(r.in_qty), f.money(r.in_value), f.number(r.out_qty), f.money(r.out_value),
         f.money(r.cost_adjustments), f.number(r.closing_qty), f.money(r.closing_value)]
        for r in summary], [False, False, *([True] * 9)]), file=out)
    inventory = books.account_balance("1405") + books.account_balance("1403")
    valuation = sum((b.value for b in balances), D(0))
    closing = sum((r.closing_value for r in summary), D(0))
    gaps = books.reconcile_inventory(differences_only=True)  # per item and warehouse
    ok = debit == credit and inventory == valuation == closing and not gaps
    print(f"  {f.label('debits = credits', '借贷平衡')}: {f.money(debit)} = {f.money(credit)}; "
          f"{f.label('inventory accounts', '存货科目')} 1405+1403 {f.money(inventory)} = "
          f"{f.label('stock valuation', '库存金额')} {f.money(valuation)} = "
          f"{f.label('summary closing', '汇总表结存')} {f.money(closing)}; "
          f"{f.label('per item and warehouse, differences', '按存货和仓库对账，差额')} "
          f"{len(gaps)}: {ok}", file=out)
    return ok


def _costing_walkthrough(out: TextIO) -> None:
    story = [("receive", D("100"), D("10.00")), ("receive", D("50"), D("10.60")),
             ("issue", D("120"), D(0)), ("receive", D("80"), D("9.85")),
             ("issue", D("45"), D(0)), ("issue", D("30"), D(0))]
    methods: list[tuple[str, FifoValuation | MovingAverageValuation]] = [
        ("FIFO 先进先出", FifoValuation(currency_digits=2)),
        ("Moving average 移动加权平均", MovingAverageValuation(currency_digits=2)),
    ]
    for title, v in methods:
        rows: list[list[object]] = []
        for op, qty, cost in story:
            if op == "receive":
                rows.append(["in 入库", qty, cost, v.receive(qty, cost), "", v.quantity, v.value])
            else:
                rows.append(["out 出库", qty, "", "", v.issue(qty), v.quantity, v.value])
        print(render_table(title, ["kind", "qty", "unit cost", "in value", "out cost",
                                   "qty on hand", "value"], rows), file=out)


def run_demo(locale: str, db_path: str, out: TextIO) -> int:
    zh = locale.lower().startswith("zh")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db_path + suffix):
            os.remove(db_path + suffix)
    notifier = _PrintingNotifier(out, zh)
    storage = SqliteStorage(db_path)
    jxc = Jxc(storage, notifier=notifier, clock=_Clock())

    _say(out, zh, "Master data", "基础资料")
    jxc.define_warehouse(Warehouse("SH", "上海总仓 Shanghai"))
    jxc.define_warehouse(Warehouse("BJ", "北京分仓 Beijing"))
    jxc.define_item(Item("TEA-01", "龙井茶 Longjing tea", base_unit="罐", units={"箱": D(12)},
                         costing_method="fifo", safety_stock=D(20), reorder_point=D(30)))
    jxc.define_item(Item("CUP-02", "茶杯 Tea cup", base_unit="个", units={"盒": D(6)},
                         costing_method="moving_average", safety_stock=D(10)))
    print("  TEA-01 (FIFO, 1 箱 = 12 罐), CUP-02 (moving average, 1 盒 = 6 个); "
          "warehouses SH, BJ", file=out)

    docs = Documents(jxc, workflows={"purchase_order": Workflow.from_data(PURCHASE_WORKFLOW)})
    buyer = User("王采购", frozenset({"buyer"}))
    manager = User("李经理", frozenset({"manager"}))
    cfo = User("赵财务", frozenset({"cfo"}))
    clerk = User("张仓管", frozenset({"warehouse"}))
    jxc.define_party(Party("GYS-001", "杭州龙井茶业", "supplier"))
    jxc.define_party(Party("GYS-002", "景德镇瓷器厂", "supplier"))
    jxc.define_party(Party("KH-001", "上海茶馆", "customer"))

    _say(out, zh, "Purchase orders through the approval workflow (data)",
         "采购订单走审批流（审批流为数据）")
    po1 = docs.create("purchase_order", [
        Line(1, "TEA-01", D(8), D("1084.80"), D("0.13"), True, unit="箱", warehouse="SH"),
    ], party="GYS-001", user=buyer.name)
    po2 = docs.create("purchase_order", [
        Line(1, "CUP-02", D(20), D("45.00"), D("0.13"), unit="盒", warehouse="SH"),
        Line(2, "CUP-02", D(40), D("8.10"), D("0.13"), warehouse="SH"),
    ], party="GYS-002", user=buyer.name)
    for po in (po1, po2):
        docs.submit(po.doc_id, buyer)
        print(f"  {po.doc_id} {po.gross_total} (价税合计): manager may "
              f"{docs.available_actions(po.doc_id, manager)}, buyer may "
              f"{docs.available_actions(po.doc_id, buyer)}", file=out)
        docs.approve(po.doc_id, manager, "ok")
        if docs.get(po.doc_id).state == "submitted":
            print(f"  {po.doc_id} is over 5000: the CFO approves too", file=out)
            docs.approve(po.doc_id, cfo, "budget checked")
        docs.post(po.doc_id, buyer)
    history = docs.get(po1.doc_id).history
    print("  " + " -> ".join(f"{h.action}({h.user})" for h in history), file=out)
    print(f"  TEA-01 projected (on order) in SH: {jxc.balance('TEA-01', 'SH').projected}",
          file=out)

    _say(out, zh, "Purchase receipts against the orders, at different costs",
         "按订单采购入库（不同单价）")
    rk1 = docs.create("purchase_receipt", [
        Line(1, "TEA-01", D(5), D("1084.80"), D("0.13"), True, unit="箱", warehouse="SH",
             source=(po1.doc_id, 1)),
    ], party="GYS-001")
    docs.approve_through(rk1.doc_id, [clerk])
    rk2 = docs.create("purchase_receipt", [
        Line(1, "CUP-02", D(20), D("45.00"), D("0.13"), unit="盒", warehouse="SH",
             source=(po2.doc_id, 1)),
        Line(2, "CUP-02", D(40), D("8.10"), D("0.13"), warehouse="SH", source=(po2.doc_id, 2)),
    ], party="GYS-002")
    docs.approve_through(rk2.doc_id, [clerk])
    qt = docs.create("adjustment", [Line(1, "TEA-01", D(30), D("82.50"), warehouse="SH")],
                     attributes={"account_role": "adjustment"})
    docs.approve_through(qt.doc_id, [clerk])
    print("  TEA-01: 5 箱 @ 1084.80/箱 incl. 13% VAT (= 60 罐 @ 80.00), 30 罐 @ 82.50 "
          "(other receipt); CUP-02: 20 盒 @ 45.00 (= 120 个 @ 7.50), 40 个 @ 8.10", file=out)
    print(f"  order {po1.doc_id} line 1: {docs.get(po1.doc_id).counters[1]}", file=out)
    print(_balances_table(jxc, zh, "after receipts 入库后"), file=out)

    _say(out, zh, "Sales order reserves stock when approved, the delivery consumes it",
         "销售订单审核即锁库，出库单消耗锁库")
    so = docs.create("sales_order", [
        Line(1, "TEA-01", D(50), D("150.00"), D("0.13"), warehouse="SH"),
        Line(2, "CUP-02", D(100), D("15.00"), D("0.13"), warehouse="SH"),
    ], party="KH-001")
    docs.submit(so.doc_id, clerk)
    docs.approve(so.doc_id, manager)
    docs.post(so.doc_id, manager)
    print(f"  {so.doc_id}: reserved {[str(r.quantity) for r in jxc.reservations()]}",
          file=out)
    try:
        jxc.issue("TEA-01", "SH", D(45), doc_id="QT-0001")
    except JxcError as exc:
        print(f"  refused, reserved stock is protected: [{exc.code}] {exc.message(locale)}",
              file=out)
    ck = docs.create("delivery", [
        Line(1, "TEA-01", D(40), D("150.00"), D("0.13"), warehouse="SH", source=(so.doc_id, 1)),
        Line(2, "CUP-02", D(100), D("15.00"), D("0.13"), warehouse="SH",
             source=(so.doc_id, 2)),
    ], party="KH-001")
    ck = docs.approve_through(ck.doc_id, [clerk])
    print(f"  delivered {ck.doc_id}: TEA-01 40 of 50 罐 (10 on backorder, still reserved), "
          f"cost {ck.counters[1]['cost']}; CUP-02 100 个 cost {ck.counters[2]['cost']}",
          file=out)
    fp = docs.create("sales_invoice", [
        Line(1, "TEA-01", D(40), D("150.00"), D("0.13"), source=(ck.doc_id, 1)),
        Line(2, "CUP-02", D(100), D("15.00"), D("0.13"), source=(ck.doc_id, 2)),
    ], party="KH-001")
    docs.approve_through(fp.doc_id, [clerk])
    pf = docs.create("purchase_invoice", [
        Line(1, "TEA-01", D(5), D("1107.40"), D("0.13"), True, unit="箱",
             source=(rk1.doc_id, 1)),
    ], party="GYS-001")
    docs.approve_through(pf.doc_id, [clerk])
    print("  purchase invoice at 1107.40/箱: the price difference goes to stock for the units "
          "on hand and to COGS for those delivered", file=out)

    _say(out, zh, "An order that cannot be served: every short line listed",
         "无法满足的订单：列出所有缺货行")
    try:
        jxc.reserve([ReserveLine("XS-002/1", "TEA-01", "SH", D(60)),
                     ReserveLine("XS-002/2", "CUP-02", "SH", D(80))], partial=False)
    except JxcError as exc:
        print(f"  [{exc.code}] {exc.message(locale)}", file=out)
        for line in exc.data["lines"]:
            print(f"    - {line['item']}: wanted {line['wanted']}, available "
                  f"{line['available']}, short {line['short']}", file=out)

    _say(out, zh, "Stock count: freeze, blind count sheet, post the variance",
         "盘点：冻结、盲盘、过账盘盈盘亏")
    pd = docs.create("stock_count", [Line(1, "CUP-02", D(0), warehouse="SH")])
    docs.submit(pd.doc_id, clerk)
    print(f"  held during the count: {jxc.balance('CUP-02', 'SH').held}; blind sheet "
          f"{docs.count_sheet(pd.doc_id)}", file=out)
    docs.record_count(pd.doc_id, {1: D(58)})
    docs.approve(pd.doc_id, manager)
    pd = docs.post(pd.doc_id, manager)
    print(f"  counted 58 of 60: loss {pd.counters[1]['quantity']} 个, value "
          f"{pd.counters[1]['value']} to 待处理财产损溢", file=out)

    _say(out, zh, "Transfer Shanghai -> Beijing at cost", "调拨：上海 -> 北京（按成本）")
    db = docs.create("transfer", [Line(1, "TEA-01", D(24), warehouse="SH", to_warehouse="BJ")])
    db = docs.approve_through(db.doc_id, [clerk])
    print(f"  TEA-01 24 罐 moved at cost {db.counters[1]['value']}", file=out)

    _say(out, zh, "A delivery that takes stock below the safety level", "出库后低于安全库存")
    ck2 = docs.create("delivery", [Line(1, "CUP-02", D(53), D("15.00"), D("0.13"),
                                        warehouse="SH")], party="KH-001")
    docs.approve_through(ck2.doc_id, [clerk])

    print(_balances_table(jxc, zh, "balances 库存余额"), file=out)
    ledger_rows: list[list[object]] = [
        [line.entry.posted_at.strftime("%m-%d %H:%M"), line.entry.doc_id, line.entry.kind,
         line.entry.warehouse, line.entry.quantity, line.entry.value, line.running_quantity,
         line.running_value]
        for line in jxc.ledger("TEA-01")
    ]
    print(render_table("TEA-01 stock ledger 明细账",
                       ["time", "document", "kind", "wh", "qty", "value", "run qty",
                        "run value"], ledger_rows), file=out)

    _say(out, zh, "Close and reopen the file: nothing lost", "关闭并重新打开数据库：数据完整")
    before = [jxc.balance(i, w) for i in ("TEA-01", "CUP-02") for w in ("SH", "BJ")]
    storage.close()
    reopened = SqliteStorage(db_path)
    after = [Jxc(reopened).balance(i, w) for i in ("TEA-01", "CUP-02") for w in ("SH", "BJ")]
    same = [(a.on_hand, a.value, a.reserved) for a in after] == [
        (b.on_hand, b.value, b.reserved) for b in before]
    print(f"  {db_path}: balances, values and reservations identical after reopening: {same}",
          file=out)
    print(f"  events delivered to the notifier: {len(notifier.seen)}", file=out)
    books = Accounting(Jxc(reopened, clock=_Clock()))
    books.settle("receivable", "KH-001", D("5000.00"), date=dt.date(2026, 11, 20))
    vouchers = books.generate_vouchers()
    same = _print_books(books, vouchers, after, locale, out) and same
    reopened.close()

    _say(out, zh, "Costing walkthrough: the same story under two methods",
         "计价方法对照：同一组业务，两种方法")
    _costing_walkthrough(out)
    return 0 if same else 1
