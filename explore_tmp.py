import time, sys
sys.path.insert(0, "benchmarks")
from bench_interleaving import ranked_lists, true_ndcg
from ltrr_core.config import Settings
from ltrr_core.engine import Engine
from ltrr_core.evaluation.configurations import parse_configurations
from ltrr_core.simulation.interleaving_runs import prefetch_query_vectors
from ltrr_core.simulation.profiles import make_profiles
from ltrr_core.simulation.traffic import TrafficGenerator
t=time.time()
engine = Engine.open("default", Settings.from_env(cache_dir="/tmp/ltrr_test_cache", db_path="/tmp/ltrr_bench_interleaving/x.db"))
engine.warm_up()
intents = TrafficGenerator(engine.catalog, seed=0, profiles=make_profiles(engine.catalog, n=1000, seed=0)).draw(400)
prefetch_query_vectors(engine, [i.query for i in intents]); print("prefetch", time.time()-t, flush=True)
specs = "lexical+semantic+structured/rrf,lexical+semantic/rrf,lexical/rrf,semantic/rrf,all/rrf,all/interleave,lexical+semantic/interleave,lexical+structured/rrf"
configs = parse_configurations(specs, engine.strategy_names)
for c in configs:
    t=time.time()
    lists = ranked_lists(engine, [c], intents)[0]
    print(c.spec, round(true_ndcg(lists, intents).mean(), 4), f"{time.time()-t:.1f}s", flush=True)
