/**
 * weightedOrder returns the queue names in the order a free slot should try
 * them: a weighted random draw without replacement. With weights 6/3/1,
 * 'critical' comes first 60% of the time, 'default' 30% and 'low' 10%, which is
 * how asynq serves its queues. Queues with no weight or weight 0 are left out.
 */
export function weightedOrder<Q extends string>(weights: Partial<Record<Q, number>>, random: () => number = Math.random): Q[] {
  return weightedDraw(weights)(random);
}

/**
 * weightedDraw returns weightedOrder for fixed weights, as a function of the
 * random source: it reads the weights once, so that the draw a JobServer makes
 * for every job is a few plain loops (it was the server's largest cost of its own).
 * Each draw calls random() once per queue, as weightedOrder always did, so a
 * seeded source gives the same orders.
 */
export function weightedDraw<Q extends string>(weights: Partial<Record<Q, number>>): (random?: () => number) => Q[] {
  const queues: Q[] = [];
  const queueWeights: number[] = [];
  for (const [queue, weight] of Object.entries(weights) as [Q, number | undefined][]) {
    if ((weight ?? 0) > 0) {
      queues.push(queue);
      queueWeights.push(weight!);
    }
  }
  return (random = Math.random) => {
    const left = queues.slice();
    const leftWeights = queueWeights.slice();
    const order: Q[] = [];
    while (left.length > 0) {
      let total = 0;
      for (const weight of leftWeights) total += weight;
      let point = random() * total;
      // Rounding can leave `point` a hair above 0 after the last queue: take that one.
      let index = left.length - 1;
      for (let i = 0; i < left.length; i++) {
        if ((point -= leftWeights[i]!) < 0) {
          index = i;
          break;
        }
      }
      order.push(left[index]!);
      left.splice(index, 1);
      leftWeights.splice(index, 1);
    }
    return order;
  };
}
