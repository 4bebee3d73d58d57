/**
 * The real photographs used to train and evaluate the hashers, with where they come from
 * and under which licence. All are shipped by Debian bookworm packages, so anyone can
 * rebuild the set with apt-get download (see photos.ts). The split is fixed here, by photo:
 * a held-out photo never contributes a training sample, so the eval measures how the
 * hash generalises to unseen images, not how well it memorised these ones.
 */
export type Split = 'train' | 'heldout';

export interface PhotoSource {
  /** File name in the photo cache; also the group name in dataset files. */
  id: string;
  /** Debian package, or 'dev-images' for test/fixtures/dev-images (skimage + darknet). */
  pkg: string;
  /** Path inside the package (or the dev-images file name). */
  path: string;
  licence: string;
  copyright: string;
  split: Split;
}

const BG = '/usr/share/backgrounds';
const lomiri = (pkg: string, file: string, licence: string, copyright: string, split: Split = 'train'): PhotoSource => ({
  id: `lomiri_${file}`,
  pkg,
  path: `${BG}/${file}`,
  licence,
  copyright,
  split,
});
const mate = (file: string, copyright: string, split: Split = 'train'): PhotoSource => ({
  id: `mate_${file}`,
  pkg: 'mate-backgrounds',
  path: `${BG}/mate/nature/${file}`,
  licence: 'GPL-2+',
  copyright,
  split,
});
const dev = (file: string, licence: string): PhotoSource => ({
  id: file,
  pkg: 'dev-images',
  path: file,
  licence,
  copyright: 'see test/fixtures/dev-images/MANIFEST.md',
  split: 'heldout',
});

const L16 = 'lomiri-wallpapers-16.04';
const L20 = 'lomiri-wallpapers-20.04';
const SKIMAGE = 'CC0 / public domain (python3-skimage data docstrings)';
const DARKNET = 'GPL-3.0+ or MIT or WTFPL (darknet)';

export const PHOTOS: readonly PhotoSource[] = [
  lomiri(L16, 'Bridge_by_Sander_Klootwijk.jpg', 'CC-BY-SA-4.0', '2018 Sander Klootwijk'),
  lomiri(L16, 'Dragonfly_by_Bolly.jpg', 'CC-BY-SA-4.0', '2018 "Bolly"'),
  lomiri(L20, 'Infinite-Sea_by_Aury88.jpg', 'CC-BY-SA-3.0', '2019 Aury88'),
  lomiri(L20, 'Kleiber_by_Lukas_Baubkus.jpg', 'CC-BY-SA-3.0', '2021 Lukas Baubkus'),
  lomiri(L16, 'Picture_0B_by_freespace.jpg', 'CC-BY-4.0', '2018 Trevor "Freespace"'),
  lomiri(L16, 'Picture_1A_by_freespace.jpg', 'CC-BY-4.0', '2018 Trevor "Freespace"'),
  lomiri(L16, 'Wine_by_Jakkub_Mede.jpg', 'CC-BY-4.0', '2018 Jakub Mede', 'heldout'),
  lomiri(L16, 'aitzgorri_by_Aitzol_Berasategi.jpg', 'CC-BY-4.0', '2018 Aitzol Berasategi'),
  lomiri(L16, 'analogpattern_by_Peter_Nerlich.jpg', 'CC-BY-SA-4.0', '2018 Peter Nerlich'),
  lomiri(L16, 'free_by_Peter_Nerlich.jpg', 'CC-BY-SA-4.0', '2018 Peter Nerlich'),
  lomiri(L16, 'friends_by_Aitzol_Berasategi.jpg', 'CC-BY-4.0', '2018 Aitzol Berasategi'),
  lomiri(L16, 'greentock_by_Peter_Nerlich.jpg', 'CC-BY-SA-4.0', '2018 Peter Nerlich'),
  lomiri(L16, 'life_by_Aitzol_Berasategi.jpg', 'CC-BY-4.0', '2018 Aitzol Berasategi'),
  lomiri(L16, 'picosdeeuropa_by_Aitzol_Berasategi.jpg', 'CC-BY-4.0', '2018 Aitzol Berasategi'),
  lomiri(L16, 'seeding_by_Clements_Engelhardt.jpg', 'CC0-1.0', '2018 Clemens Engelhardt'),
  lomiri(L16, 'sunset_by_Aitzol_Berasategi.jpg', 'CC-BY-4.0', '2018 Aitzol Berasategi'),
  lomiri(L16, 'umang_by_Abhishek_Mudgal.jpg', 'CC-BY-4.0', '2018 Abhishek Mudgal'),
  mate('Aqua.jpg', '2008 Charles Barbin'),
  mate('Blinds.jpg', '2008 Lennart Poettering, Andrea Cimitan'),
  mate('Dune.jpg', '2007 Marco Cogoni, 2008 Hylke Bons'),
  mate('FreshFlower.jpg', '2005 Jens Ansorg'),
  mate('Garden.jpg', '2008 Charles Barbin'),
  mate('GreenMeadow.jpg', '2005 Timothy Schellhase, 2008 Lapo Calamandrei'),
  mate('LadyBird.jpg', '2008 Charles Barbin', 'heldout'),
  mate('RainDrops.jpg', '2008 "blackcombwhistler07"'),
  mate('Storm.jpg', '2008 Sergey Nazarov'),
  mate('TwoWings.jpg', '2008 Charles Barbin, Hylke Bons'),
  mate('Wood.jpg', '2008 Jean-François Fortin Tam'),
  mate('YellowFlower.jpg', '2008 Charles Barbin'),
  {
    id: 'sklearn_china.jpg',
    pkg: 'python3-sklearn',
    path: '/usr/lib/python3/dist-packages/sklearn/datasets/images/china.jpg',
    licence: 'CC-BY-2.0 (sklearn/datasets/images/README.txt)',
    copyright: 'danielbuechele on Flickr (via scikit-learn)',
    split: 'heldout',
  },
  {
    id: 'sklearn_flower.jpg',
    pkg: 'python3-sklearn',
    path: '/usr/lib/python3/dist-packages/sklearn/datasets/images/flower.jpg',
    licence: 'CC-BY-2.0 (sklearn/datasets/images/README.txt)',
    copyright: 'vultilion on Flickr (via scikit-learn)',
    split: 'train',
  },
  {
    id: 'mpl_grace_hopper.jpg',
    pkg: 'python-matplotlib-data',
    path: '/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg',
    licence: 'public domain (US Navy photo, per matplotlib sample_data)',
    copyright: 'US Navy',
    split: 'train',
  },
  // skimage_horse (a binary silhouette) and motorcycle_right (a stereo twin of _left) are
  // left out: one is not a photo, the other would make two "products" of one scene.
  ...['skimage_astronaut.png', 'skimage_chelsea.png', 'skimage_coffee.png', 'skimage_motorcycle_left.png'].map((f) => dev(f, SKIMAGE)),
  ...['darknet_dog.jpg', 'darknet_eagle.jpg', 'darknet_giraffe.jpg', 'darknet_horses.jpg', 'darknet_kite.jpg', 'darknet_person.jpg'].map(
    (f) => dev(f, DARKNET),
  ),
];
