/**
 * weightedOrder returns the queue names in the order a free slot should try
 * them: a weighted random draw without replacement. With weights 6/3/1,
 * 'critical' comes first 60% of the time, 'default' 30% and 'low' 10%, which is
 * how asynq serves its queues. Queues with no weight or weight 0 are left out.
 */
export function weightedOrder<Q extends string>(weights: Partial<Record<Q, number>>, random: () => number = Math.random): Q[] {
  const left = (Object.entries(weights) as [Q, number | undefined][]).filter((entry): entry is [Q, number] => (entry[1] ?? 0) > 0);
  const order: Q[] = [];
  while (left.length > 0) {
    const total = left.reduce((sum, [, weight]) => sum + weight, 0);
    let point = random() * total;
    const index = left.findIndex(([, weight]) => (point -= weight) < 0);
    // Rounding can leave `point` a hair above 0 after the last queue: take that one.
    const [picked] = left.splice(index === -1 ? left.length - 1 : index, 1);
    order.push(picked![0]);
  }
  return order;
}
