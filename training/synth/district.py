"""What the synthetic 印台区 looks like: towns, industries, institutions and the words of its records.

Everything here is a plausible invention for a synthetic district; the town codes come from the
region definition (`app/regions/<code>.json`), the industry codes from GB/T 4754-2017.
"""
from dataclasses import dataclass

import numpy as np

from app.common.region import town_codes

KINDS = ("企业", "个体工商户", "农民专业合作社", "农户")
ENTERPRISE, INDIVIDUAL, COOPERATIVE, FARMER = range(4)
KIND_SHARES = (0.35, 0.40, 0.03, 0.22)
USCC_PREFIX = ("91", "92", "93", None)
SIZES = ("微型", "小型", "中型")

# Seasonal profiles by calendar month (Jan..Dec); each is scaled to a mean of 1 below.
_PROFILES = {
    "flat": (1,) * 12,
    "apple": (0.7, 0.6, 0.6, 0.6, 0.7, 0.7, 0.8, 0.9, 1.5, 2.0, 1.7, 1.0),
    "vegetable": (0.6, 0.6, 0.8, 1.0, 1.2, 1.3, 1.4, 1.3, 1.2, 1.0, 0.8, 0.6),
    "construction": (0.4, 0.5, 0.9, 1.1, 1.2, 1.2, 1.1, 1.1, 1.2, 1.2, 1.0, 0.6),
    "tourism": (0.8, 1.1, 0.8, 1.1, 1.3, 1.0, 1.1, 1.1, 0.9, 1.4, 0.8, 0.7),
    "festival": (1.4, 1.5, 0.9, 0.9, 1.0, 0.9, 0.9, 0.9, 1.0, 1.1, 0.9, 1.2),
    "pig": (1.3, 1.2, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 1.0, 1.0, 1.0, 1.2),
}
PROFILE_NAMES = tuple(_PROFILES)
SEASON = np.array([np.array(p) / np.mean(p) for p in _PROFILES.values()])
# Winter heating (Nov–Mar) lifts gas and, less, electricity.
HEATING = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1], dtype=bool)
# Cold stores fill after the apple harvest and empty by summer.
STORAGE = np.array((0.8, 0.7, 0.55, 0.4, 0.25, 0.15, 0.1, 0.1, 0.3, 0.8, 1.0, 0.95))


@dataclass(frozen=True)
class Industry:
    """A GB/T 4754-2017 class with how it behaves in the district."""

    code: str
    name: str
    profile: str
    revenue: float  # multiplier of the size-based revenue
    kwh: float  # electricity per 万元 of revenue
    water: float  # tonnes per 万元
    gas: float  # m³ per 万元 (kilns, kitchens); 0 = heating only
    tonnes: float  # freight tonnes per 万元
    logistics: float  # share of firms reported by the logistics platform
    shock: float  # exposure to the coal-era decline (1 = coal itself)
    word: str  # a word for firm names


INDUSTRIES = (
    Industry("0151", "仁果类和核果类水果种植", "apple", 0.8, 40, 40, 0, 2.5, 0.4, 0, "果业"),
    Industry("0141", "蔬菜种植", "vegetable", 0.7, 40, 50, 0, 2, 0.1, 0, "蔬菜"),
    Industry("0313", "猪的饲养", "pig", 1.0, 80, 30, 0, 1, 0.1, 0, "养殖"),
    Industry("1523", "果菜汁及果菜汁饮料制造", "apple", 1.6, 120, 30, 20, 8, 0.5, 0, "果汁饮品"),
    Industry("0610", "烟煤和无烟煤开采洗选", "construction", 2.5, 300, 8, 0, 15, 0.5, 1.0, "煤业"),
    Industry("3011", "水泥制造", "construction", 2.2, 600, 5, 0, 25, 0.5, 0.4, "水泥"),
    Industry("3021", "水泥制品制造", "construction", 1.2, 200, 6, 0, 20, 0.5, 0.4, "建材"),
    Industry("3031", "粘土砖瓦及建筑砌块制造", "construction", 1.0, 400, 6, 0, 30, 0.5, 0.4, "砖瓦"),
    Industry("3074", "日用陶瓷制品制造", "tourism", 1.0, 250, 10, 150, 2, 0.1, 0, "陶瓷"),
    Industry("3075", "陈设艺术陶瓷制造", "tourism", 0.8, 200, 10, 150, 1, 0.05, 0, "陶艺"),
    Industry("3311", "金属结构制造", "construction", 1.3, 150, 4, 0, 3, 0.1, 0.2, "钢构"),
    Industry("4710", "住宅房屋建筑", "construction", 1.8, 20, 5, 0, 1, 0.03, 0.2, "建筑工程"),
    Industry("5431", "普通货物道路运输", "apple", 1.0, 15, 2, 0, 150, 0.85, 0.4, "物流运输"),
    Industry("5920", "通用仓储", "apple", 0.9, 200, 3, 0, 10, 0.85, 0, "仓储"),
    Industry("5212", "超级市场零售", "festival", 1.2, 60, 4, 0, 1, 0.03, 0, "超市"),
    Industry("5223", "果品、蔬菜零售", "apple", 0.7, 50, 4, 0, 2, 0.05, 0, "果蔬"),
    Industry("6110", "旅游饭店", "tourism", 1.1, 120, 20, 30, 0, 0, 0, "酒店"),
    Industry("6210", "正餐服务", "festival", 0.8, 80, 15, 40, 0, 0, 0, "餐饮"),
    Industry("7291", "旅行社及相关服务", "tourism", 0.6, 10, 2, 0, 0, 0, 0, "旅游"),
)
INDUSTRY_INDEX = {ind.code: i for i, ind in enumerate(INDUSTRIES)}


def _column(name):
    return np.array([getattr(ind, name) for ind in INDUSTRIES], dtype=float)


IND_REVENUE, IND_KWH, IND_WATER, IND_GAS, IND_TONNES, IND_LOGISTICS, IND_SHOCK = (
    _column(n) for n in ("revenue", "kwh", "water", "gas", "tonnes", "logistics", "shock"))
IND_PROFILE = np.array([PROFILE_NAMES.index(ind.profile) for ind in INDUSTRIES])
IND_STORES = np.isin([ind.code for ind in INDUSTRIES], ("5920", "1523", "0151"))
IND_WORD = np.array([ind.word for ind in INDUSTRIES])
IND_CODE = np.array([ind.code for ind in INDUSTRIES])

# Industry mix by town character and subject kind: {kind: {code: weight}}.
_MIX = {
    "urban": {
        ENTERPRISE: {"5212": 8, "4710": 10, "5431": 8, "5920": 4, "6110": 6, "6210": 12, "7291": 5, "3311": 8,
                     "3021": 6, "5223": 5, "1523": 3, "3074": 3, "0610": 2},
        INDIVIDUAL: {"5212": 20, "5223": 25, "6210": 30, "5431": 15, "7291": 3, "3311": 7},
        COOPERATIVE: {"0141": 50, "0313": 25, "0151": 25},
        FARMER: {"0141": 50, "0151": 30, "0313": 20},
    },
    "ceramics": {
        ENTERPRISE: {"3074": 35, "3075": 25, "6110": 6, "7291": 6, "6210": 8, "5431": 5, "0151": 5, "3031": 5},
        INDIVIDUAL: {"3075": 30, "3074": 20, "6210": 25, "5223": 10, "7291": 5, "5212": 10},
        COOPERATIVE: {"0151": 50, "0141": 30, "0313": 20},
        FARMER: {"0151": 55, "0141": 25, "0313": 20},
    },
    "apples": {
        ENTERPRISE: {"1523": 15, "5920": 15, "0151": 20, "5431": 15, "0313": 10, "0141": 10, "4710": 5, "3031": 5,
                     "5212": 5},
        INDIVIDUAL: {"5223": 30, "0151": 20, "5431": 15, "6210": 15, "5212": 10, "0313": 10},
        COOPERATIVE: {"0151": 60, "0141": 20, "0313": 15, "5920": 5},
        FARMER: {"0151": 60, "0141": 20, "0313": 20},
    },
    "industrial": {
        ENTERPRISE: {"0610": 25, "3011": 12, "3021": 15, "3031": 15, "3311": 10, "5431": 10, "4710": 8, "5920": 5},
        INDIVIDUAL: {"5431": 25, "6210": 25, "5212": 20, "5223": 15, "3031": 15},
        COOPERATIVE: {"0141": 40, "0313": 35, "0151": 25},
        FARMER: {"0141": 45, "0151": 35, "0313": 20},
    },
}

# Town character and where each kind of subject sits (enterprise, individual, cooperative, farmer).
_TOWN_PROFILE = {
    "610203001": ("urban", (30, 32, 2, 2), 0.3),
    "610203002": ("urban", (20, 22, 3, 3), 0.2),
    "610203003": ("industrial", (12, 8, 5, 6), -0.2),
    "610203004": ("urban", (14, 14, 6, 7), 0.1),
    "610203100": ("ceramics", (10, 8, 12, 12), 0.0),
    "610203101": ("apples", (4, 5, 20, 18), -0.1),
    "610203102": ("apples", (4, 4, 18, 17), -0.1),
    "610203104": ("apples", (3, 3, 16, 16), -0.2),
    "610203106": ("apples", (3, 4, 18, 19), -0.1),
}
_DEFAULT_TOWN = ("urban", (10, 10, 10, 10), 0.0)


@dataclass(frozen=True)
class Region:
    """The towns of the district with the weights and mixes the generator draws from."""

    code: str
    town_codes: tuple
    kind_town_weights: np.ndarray  # [kind, town], rows sum to 1
    town_health: np.ndarray  # [town] shift of the firms' mean health
    industry_weights: np.ndarray  # [town, kind, industry], sums to 1 over industry


def load(region_code):
    """The district's towns from the region definition, with the synthetic profiles."""
    towns = tuple(town_codes(region_code))
    profiles = [_TOWN_PROFILE.get(code, _DEFAULT_TOWN) for code in towns]
    kind_town = np.array([p[1] for p in profiles], dtype=float).T
    mixes = np.zeros((len(towns), len(KINDS), len(INDUSTRIES)))
    for t, (character, _weights, _health) in enumerate(profiles):
        for kind, weights in _MIX[character].items():
            for code, weight in weights.items():
                mixes[t, kind, INDUSTRY_INDEX[code]] = weight
    return Region(region_code, towns, kind_town / kind_town.sum(axis=1, keepdims=True),
                  np.array([p[2] for p in profiles]), mixes / mixes.sum(axis=2, keepdims=True))


@dataclass(frozen=True)
class Institution:
    """A fictional lender of the district."""

    name: str
    kind: str  # a key of app.ingest.sources.INSTITUTION_TYPES
    abbr: str
    rate: tuple  # annual rate range, %
    terms: tuple  # usual terms in months
    lenient: float  # how easily it approves
    risk: float  # how much riskier its borrowers are, beyond what the data shows


INSTITUTIONS = (
    Institution("秦川银行印台支行", "银行", "QCYH", (3.45, 6.5), (12, 12, 24, 36, 6), 0.0, 0.0),
    Institution("耀州村镇银行印台支行", "银行", "YZCZ", (3.8, 7.2), (12, 12, 6, 24), 0.1, 0.05),
    Institution("铜川普惠融资担保有限公司", "担保公司", "TCPH", (6.0, 9.5), (12, 12, 24), 0.2, 0.15),
    Institution("印台惠农小额贷款有限公司", "小额贷款公司", "YTHN", (9.0, 18.0), (6, 12, 12), 0.6, 0.3),
    Institution("铜川鑫源小额贷款有限公司", "小额贷款公司", "TCXY", (10.0, 20.0), (3, 6, 12), 0.7, 0.35),
    Institution("金鼎典当行", "典当行", "JDDD", (14.0, 24.0), (3, 6), 1.0, 0.5),
)
INST_LENIENT = np.array([i.lenient for i in INSTITUTIONS])
INST_RISK = np.array([i.risk for i in INSTITUTIONS])
# Which lenders each kind of subject goes to (columns follow INSTITUTIONS).
INST_BY_KIND = np.array([
    (30, 20, 20, 12, 8, 10),
    (20, 30, 10, 15, 10, 15),
    (25, 45, 15, 15, 0, 0),
    (15, 55, 0, 30, 0, 0),
], dtype=float)
INST_BY_KIND /= INST_BY_KIND.sum(axis=1, keepdims=True)

SURNAMES = tuple("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
                 "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = tuple("建国军华明伟芳娜敏静丽强磊洋艳勇杰娟涛超秀霞平刚桂英辉鹏斌宇浩凯健俊帆帅旭宁龙林欣玲晨红梅兰琴云莉雪")
BRAND = tuple("鑫源顺达宏泰瑞丰盛华金鼎秦川耀州印台陈炉北塬玉华福泰兴隆德昌永安恒通嘉禾锦程博远汇通万和天成润泽同心")
VILLAGE = tuple("东西南北上下前后塬沟坡峪河川梁庄湾")
AUTHORITIES = {
    "market": ("铜川市印台区市场监督管理局", "印市监罚"),
    "environment": ("铜川市生态环境局印台分局", "铜环印罚"),
    "safety": ("铜川市印台区应急管理局", "印应急罚"),
    "tax": ("国家税务总局铜川市印台区税务局", "印税罚"),
    "transport": ("铜川市印台区交通运输局", "印交罚"),
    "city": ("铜川市印台区城市管理执法局", "印城管罚"),
}
BUYERS = ("铜川市印台区教育局", "铜川市印台区人民医院", "铜川市印台区住房和城乡建设局", "铜川市印台区农业农村局",
          "铜川市印台区城关街道办事处", "铜川市印台区文化和旅游局", "陈炉镇人民政府", "红土镇人民政府",
          "铜川市印台区卫生健康局", "铜川市印台区机关事务服务中心")
CAUSES = ("买卖合同纠纷", "民间借贷纠纷", "劳务合同纠纷", "建设工程施工合同纠纷", "运输合同纠纷", "租赁合同纠纷",
          "服务合同纠纷", "劳动争议")
COURT = "陕0203"
