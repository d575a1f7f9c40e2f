"""台账 (activity ledger), 年度活动计划, 固定联系群众 and the 履职档案 computed from them."""
