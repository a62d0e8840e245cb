// Synthetic .ipynb notebooks of any size, with outputs, for the large-notebook tests and the editor
// benchmark (bench/editor.ts). Every tenth cell is markdown; code cells carry a stdout stream and an
// execute_result, and each source holds a marker (`marker_<i>`) that find can look for.

export function syntheticIpynb(cellCount: number): string {
  const cells = Array.from({ length: cellCount }, (_, i) =>
    i % 10 === 9
      ? {
          id: `md-${i}`,
          cell_type: "markdown",
          metadata: {},
          source: [`## Section ${(i + 1) / 10}\n`, `Notes for marker_${i}, with *emphasis*.`],
        }
      : {
          id: `code-${i}`,
          cell_type: "code",
          execution_count: i + 1,
          metadata: {},
          source: [`# marker_${i}\n`, `value_${i} = ${i} * 2\n`, `print("row", ${i}, value_${i})\n`, `value_${i}`],
          outputs: [
            { output_type: "stream", name: "stdout", text: [`row ${i} ${i * 2}\n`] },
            { output_type: "execute_result", execution_count: i + 1, metadata: {}, data: { "text/plain": [String(i * 2)] } },
          ],
        },
  );
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "python3", display_name: "Python 3", language: "python" } },
    cells,
  });
}
