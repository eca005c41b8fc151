// The console's words in Chinese (the default) and English; stage and action labels come
// from the lifecycle (GET /api/v1/cases/lifecycle) and fall back to these.

const WORDS = {
  zh: {
    title: "一张图 · 指挥台", public: "公众", token: "令牌（调度员）", sign_in: "登录",
    sign_out: "退出", search: "搜索：案件号、网格、村、镇", open_cases: "未结案件",
    all_stages: "全部阶段", any_deadline: "全部期限", overdue: "超期", not_overdue: "未超期",
    due_soon: "临期", any_category: "全部类别", grid_code: "网格编码", free_text: "关键词",
    from: "自", until: "至", sort_close_by: "结案期限↑", sort_newest: "最新上报",
    sort_oldest: "最早上报", sort_updated: "最近更新", in_view: "仅当前视图",
    export_csv: "导出 CSV", shortcuts: "快捷键", key_jk: "队列中下移 / 上移",
    key_enter: "打开案件", key_help: "显示快捷键", key_esc: "关闭", total: "共 {n} 件",
    grid: "网格", unit: "单元", village: "村", town: "镇", district: "区", leader: "负责人",
    reporter: "上报人", address: "地址", reported_at: "上报", close_by: "结案期限",
    history: "历程", nearby: "附近案件", duplicates: "可能重复", stations: "最近站点",
    actions: "操作", conflict: "冲突：他人已先处理此案件（当前版本 {v}），已刷新。",
    not_allowed: "不允许：", live_new: "新案件 #{id}", session_ended: "登录已失效，请重新登录", live_changed: "案件 #{id} 已更新",
    resynced: "连接恢复，已重新同步", no_owner: "此处不属于任何网格", owner: "权属",
    signed_in_as: "{name}（{role}）", bad_token: "令牌无效", not_found: "未找到",
    legend: "图例", choropleth: "分级设色", chor_none: "无", chor_reported: "案件数",
    chor_overdue: "超期数", chor_on_time: "按时结案率", period_days: "近 {n} 天",
    boundaries: "边界", cases: "案件", hotspots: "隐患点", parcels: "地块", stations_l: "站点",
    districts: "区县", towns: "乡镇", villages: "村社区", grids: "网格", units: "单元网格",
    cases_per_grid: "每网格案件数", close: "关闭",
    district_code: "区县编码", town_code: "乡镇编码", village_code: "村社区编码",
    st_party_service_center: "党群服务中心", st_convenience_point: "便民服务点",
    st_grid_council_hall: "网格议事厅", st_neighbourhood_center: "邻里中心",
    st_elderly_care_center: "居家养老服务中心",
    case_hotspots: "案件热点（Gi*）", waterlogging_hotspots: "内涝热点（Gi*）", coverage: "服务覆盖",
    hot_99: "热点 99%", hot_95: "热点 95%", hot_90: "热点 90%", cold_99: "冷点 99%",
    cold_95: "冷点 95%", cold_90: "冷点 90%", ns: "不显著", island: "无相邻网格",
    within_m: "{m} 米内", beyond_m: "超过 {m} 米", no_data: "无数据", chor_score: "综合指标值",
    coverage_of: "距最近{kind}",
    upload_title: "CSV 批量定位", upload_go: "定位", upload_save: "下载结果",
    upload_sending: "上传中 {mb} MB", upload_receiving: "接收结果 {mb} MB",
    upload_done: "完成：{n} 行", upload_failed: "定位失败",
    upload_row: "第 {row} 行 {column}：{reason}",
    unlocated: "此案件尚未定位（地址无法确定），派遣前请先定位。", place_on_map: "在地图上定位",
    click_map: "请点击地图上的位置…",
  },
  en: {
    title: "OneMap · console", public: "public", token: "token (dispatchers)", sign_in: "Sign in",
    sign_out: "Sign out", search: "Search: case id, grid, village, town", open_cases: "Open cases",
    all_stages: "All stages", any_deadline: "Any deadline", overdue: "overdue",
    not_overdue: "not overdue", due_soon: "due soon", any_category: "Any category",
    grid_code: "grid code", free_text: "text", from: "from", until: "until",
    sort_close_by: "Deadline ↑", sort_newest: "Newest", sort_oldest: "Oldest",
    sort_updated: "Recently updated", in_view: "Only in view", export_csv: "Export CSV",
    shortcuts: "Shortcuts", key_jk: "next / previous in the queue", key_enter: "open the case",
    key_help: "show the shortcuts", key_esc: "close", total: "{n} cases", grid: "Grid",
    unit: "Unit", village: "Village", town: "Town", district: "District", leader: "Leader",
    reporter: "Reporter", address: "Address", reported_at: "Reported", close_by: "Close by",
    history: "History", nearby: "Nearby cases", duplicates: "Possible duplicates",
    stations: "Nearest stations", actions: "Actions",
    conflict: "Conflict: someone acted on this case first (now version {v}); refreshed.",
    not_allowed: "Not allowed: ", live_new: "New case #{id}", session_ended: "Your sign-in has ended: sign in again", live_changed: "Case #{id} changed",
    resynced: "Reconnected, resynchronised", no_owner: "No grid owns this spot", owner: "Owner",
    signed_in_as: "{name} ({role})", bad_token: "Invalid token", not_found: "Not found",
    legend: "Legend", choropleth: "Choropleth", chor_none: "none", chor_reported: "cases",
    chor_overdue: "overdue", chor_on_time: "on-time rate", period_days: "last {n} days",
    boundaries: "Boundaries", cases: "Cases", hotspots: "Hotspots", parcels: "Parcels",
    stations_l: "Stations", districts: "Districts", towns: "Towns", villages: "Villages",
    grids: "Grids", units: "Units", cases_per_grid: "cases per grid", close: "Close",
    district_code: "district code", town_code: "town code", village_code: "village code",
    st_party_service_center: "party service centre", st_convenience_point: "convenience point",
    st_grid_council_hall: "grid council hall", st_neighbourhood_center: "neighbourhood centre",
    st_elderly_care_center: "elderly care centre",
    case_hotspots: "Case hotspots (Gi*)", waterlogging_hotspots: "Waterlogging hotspots (Gi*)",
    coverage: "Service coverage", hot_99: "hot 99%", hot_95: "hot 95%", hot_90: "hot 90%",
    cold_99: "cold 99%", cold_95: "cold 95%", cold_90: "cold 90%", ns: "not significant",
    island: "no neighbouring grid", within_m: "within {m} m", beyond_m: "over {m} m",
    no_data: "no data", chor_score: "composite score", coverage_of: "to the nearest {kind}",
    upload_title: "Locate a CSV", upload_go: "Locate", upload_save: "Download the result",
    upload_sending: "sending {mb} MB", upload_receiving: "receiving {mb} MB",
    upload_done: "done: {n} rows", upload_failed: "locating failed",
    upload_row: "row {row} {column}: {reason}",
    unlocated: "This case has no location yet (its address was unclear): place it before dispatching.",
    place_on_map: "Place on map", click_map: "Click the place on the map…",
  },
};

// The lifecycle's stages (GB/T 30428), used until /api/v1/cases/lifecycle answers.
const STAGES = {
  reported: ["信息收集", "reported"], registered: ["案卷建立", "registered"],
  cancelled: ["作废", "cancelled"], dispatched: ["任务派遣", "dispatched"],
  in_progress: ["任务处理", "in progress"], responded: ["处理反馈", "responded"],
  closed: ["核查结案", "closed"], evaluated: ["综合评价", "evaluated"],
};
const ACTIONS = {
  report: ["上报", "report"],
  register: ["案卷建立", "register"], cancel: ["作废", "cancel"], dispatch: ["任务派遣", "dispatch"],
  start: ["任务处理", "start"], respond: ["处理反馈", "respond"], close: ["核查结案", "close"],
  rework: ["返工", "rework"], evaluate: ["综合评价", "evaluate"], place: ["定位", "place"],
};

let lang = new URLSearchParams(location.search).get("lang") === "en" ? "en" : "zh";
let lifecycle = null;

export function getLang() {
  return lang;
}

export function setLang(value) {
  lang = value === "en" ? "en" : "zh";
  document.documentElement.lang = lang === "en" ? "en" : "zh-CN";
  translate(document);
}

export function setLifecycle(value) {
  lifecycle = value;
}

export function t(key, vars = {}) {
  const text = WORDS[lang][key] ?? WORDS.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));
}

function fromLifecycle(kind, code) {
  const found = lifecycle?.[kind]?.find((s) => (s.code ?? s.name) === code);
  return found?.label;
}

export function stageLabel(code) {
  if (lang === "zh") {
    return fromLifecycle("stages", code) ?? STAGES[code]?.[0] ?? code;
  }
  return STAGES[code]?.[1] ?? code;
}

export function actionLabel(name) {
  if (lang === "zh") {
    return fromLifecycle("actions", name) ?? ACTIONS[name]?.[0] ?? name;
  }
  return ACTIONS[name]?.[1] ?? name;
}

export function stageCodes() {
  return lifecycle?.stages?.map((s) => s.code) ?? Object.keys(STAGES);
}

// Fill every [data-i18n] and [data-i18n-placeholder] under root.
export function translate(root) {
  root.querySelectorAll("[data-i18n]").forEach((node) => {
    node.textContent = t(node.dataset.i18n);
  });
  root.querySelectorAll("[data-i18n-placeholder]").forEach((node) => {
    node.placeholder = t(node.dataset.i18nPlaceholder);
  });
}
