/** Three well-separated classes in 6 dimensions (deterministic). */
export function separableJsonl(n: number, seed = 7): string {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const labels = ['charger_side', 'bms_side', 'cable'];
  return Array.from({ length: n }, (_, i) => {
    const c = i % 3;
    const features = Array.from({ length: 6 }, (_, j) => rand() + (j === c ? 4 : 0));
    return JSON.stringify({ features, label: labels[c] });
  }).join('\n');
}
